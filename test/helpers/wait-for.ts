/** Polls `condition` until it holds (returns its truthy value) or `timeoutMs` passes. */
export async function waitFor<T>(condition: () => T | Promise<T>, { timeoutMs = 5_000, intervalMs = 5, what = "condition" } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
