/** Base class of every error this package throws on purpose. */
export class EventError extends Error {
  override name = "EventError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The serialized event is larger than `maxEventSize` bytes. */
export class EventTooLargeError extends EventError {
  override name = "EventTooLargeError";
  constructor(
    readonly size: number,
    readonly maxSize: number,
  ) {
    super(`event is ${size} bytes serialized, over the limit of ${maxSize} bytes (option maxEventSize)`);
  }
}

/** The queue already holds `maxQueueSize` events, or `maxQueueBytes` bytes of them. */
export class EventQueueFullError extends EventError {
  override name = "EventQueueFullError";
  constructor(
    readonly maxSize: number,
    readonly maxBytes?: number,
    option = "maxQueueSize",
  ) {
    super(
      maxBytes === undefined
        ? `event queue is full: it holds ${maxSize} events (option ${option}); the store is slower than the app or unreachable`
        : `event queue is full: its events take ${maxBytes} bytes (option maxQueueBytes); the store is slower than the app or unreachable`,
    );
  }

  /** What ends the refusals, for the one log line per episode. */
  get until(): string | undefined {
    return undefined;
  }
}

/** A request event past its share of the queue's bound (LIMITS.requestEventShare): the rest is for handlers' events. */
export class RequestEventShareFullError extends EventQueueFullError {
  override name = "RequestEventShareFullError";
  constructor(share: number) {
    super(0);
    this.message = `event queue is full for request events: they may fill ${Math.round(share * 100)}% of its bound, the rest is kept for the events handlers put; the store is slower than the app or unreachable`;
  }
}

/**
 * The spool cannot be written (disk full, read-only, I/O error) and the events waiting in memory
 * for it reached their bound. A kind of EventQueueFullError, so code that handles a full queue
 * handles this too.
 */
export class SpoolUnwritableError extends EventQueueFullError {
  override name = "SpoolUnwritableError";
  constructor(
    readonly path: string,
    readonly maxBuffered: number,
    problem: string,
  ) {
    super(maxBuffered, undefined, "spool");
    this.message = `the spool ${path} cannot be written (${problem}) and ${maxBuffered} events already wait in memory for it`;
  }

  override get until(): string {
    return "the spool can be written again";
  }
}

/**
 * The spool's server (Redis) cannot be reached, or does not answer, and the events waiting in
 * memory for it reached their bound. A kind of SpoolUnwritableError (and so of EventQueueFullError).
 */
export class SpoolUnreachableError extends SpoolUnwritableError {
  override name = "SpoolUnreachableError";
  constructor(where: string, maxBuffered: number, problem: string) {
    super(where, maxBuffered, problem);
    this.message = `the spool ${where} cannot be reached (${problem}) and ${maxBuffered} events already wait in memory for it`;
  }

  override get until(): string {
    return "the spool can be reached again";
  }
}

/** Option beforeSend threw, or returned neither an event nor null: that put() is refused. */
export class BeforeSendError extends EventError {
  override name = "BeforeSendError";
}

/** put() was called after close(). */
export class ForwarderClosedError extends EventError {
  override name = "ForwarderClosedError";
  constructor(readonly forwarderName: string) {
    super(`events-forward "${forwarderName}" is closed: put() after close() is refused`);
  }
}

/** An option given to eventsForward() is missing, of the wrong type or out of range. */
export class OptionError extends Error {
  override name = "OptionError";
  constructor(
    readonly option: string,
    /** What is wrong with it, without the option's name. */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`events-forward option ${option}: ${problem}`, options);
  }
}
