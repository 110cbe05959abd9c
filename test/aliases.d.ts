// The older majors are installed under npm aliases; they have the same API as the types of the newer ones.
declare module "express4" {
  import express from "express";
  export default express;
}
declare module "koa2" {
  import Koa from "koa";
  export default Koa;
}
