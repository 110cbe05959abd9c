import type { Logger } from "../../src/log.js";

/** A logger that keeps every message, to assert on what was (and was not) reported. */
export class CaptureLogger implements Logger {
  readonly messages: { level: "warn" | "error" | "debug"; message: string }[] = [];
  warn(message: string): void {
    this.messages.push({ level: "warn", message });
  }
  error(message: string): void {
    this.messages.push({ level: "error", message });
  }
  debug(message: string): void {
    this.messages.push({ level: "debug", message });
  }
  matching(pattern: RegExp, level?: "warn" | "error"): string[] {
    return this.messages.filter((m) => (level === undefined || m.level === level) && pattern.test(m.message)).map((m) => m.message);
  }
  all(): string {
    return this.messages.map((m) => `${m.level}: ${m.message}`).join("\n");
  }
}
