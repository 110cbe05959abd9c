import { onTestFinished } from "vitest";

/**
 * Records the errors thrown where nobody catches them (an event listener, a timer) while the
 * calling test runs, so that the test itself can fail on one: the runner only reports them
 * beside the tests.
 */
export function recordUncaught(): unknown[] {
  const errors: unknown[] = [];
  const record = (error: unknown) => errors.push(error);
  process.on("uncaughtException", record);
  process.on("unhandledRejection", record);
  onTestFinished(() => {
    process.off("uncaughtException", record);
    process.off("unhandledRejection", record);
  });
  return errors;
}
