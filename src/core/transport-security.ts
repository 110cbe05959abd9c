import { BlockList, isIP } from "node:net";
import { OptionError } from "./errors.js";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6"); // also matches ::ffff:127.x.y.z, IPv4-mapped

/** Does this URL host name (as `URL.hostname` gives it) stay on this machine? */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost") return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Refuses, at start-up, to send a credential (a bearer token, a collector key's signatures) over
 * plain http to another machine, where anyone on the path can read or replay it. Loopback is
 * fine (a local proxy or a test server); `allowInsecureHttp: true` accepts a trusted network.
 * Every sink that sends a credential calls this with the option a person should change.
 */
export function assertSecureTransport(option: string, url: URL, credential: string, allowInsecureHttp: boolean): void {
  if (url.protocol !== "http:" || allowInsecureHttp || isLoopbackHost(url.hostname)) return;
  throw new OptionError(
    option,
    `would send the ${credential} over plain http to ${url.hostname}, which is not this machine: ` +
      "use https, or set allowInsecureHttp: true if the network between them is trusted",
  );
}
