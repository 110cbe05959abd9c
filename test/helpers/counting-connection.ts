import { RedisConnection } from "../../src/spool/redis/connection.js";

/** A Redis spool's connection that notes how many events each append carries (its arguments: six, then the events). */
export class CountingConnection extends RedisConnection {
  readonly appends: number[] = [];

  override run(...call: Parameters<RedisConnection["run"]>): Promise<unknown> {
    if (call[0] === "append") this.appends.push(call[2].length - 6);
    return super.run(...call);
  }
}
