/**
 * The one event every contender records, so all of them carry the same data: an event name,
 * a user id and a few properties of the kinds apps usually send.
 */
export const EVENT_NAME = "checkout";
export const USER_ID = "user-4242";

export function eventProperties(i: number): Record<string, unknown> {
  return {
    plan: "pro",
    cart_items: 3,
    amount_cents: 4599 + (i % 100),
    currency: "EUR",
    coupon: null,
    first_order: i % 7 === 0,
  };
}

/** The quiet logger every events-forward instance in the benchmarks uses. */
export const quietLogger = { warn() {}, error() {} };
