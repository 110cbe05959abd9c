import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import { expressFramework, koaFramework } from "./apps/express-koa.js";
import { fastifyFramework } from "./apps/fastify.js";
import { honoFramework, honoWebFramework } from "./apps/hono.js";
import { nodeFramework } from "./apps/node-http.js";
import type { Framework } from "./apps/spec.js";

export type { AppSpec, Framework } from "./apps/spec.js";

/** The eight servers every scenario of the request table runs on. */
export const FRAMEWORKS: Framework[] = [
  expressFramework("Express 5", express),
  expressFramework("Express 4", express4),
  koaFramework("Koa 3", Koa),
  koaFramework("Koa 2", Koa2),
  fastifyFramework,
  honoFramework,
  honoWebFramework,
  nodeFramework,
];
