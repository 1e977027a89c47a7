'use strict';
// A logger with pixl-logger's debug/error signatures that only counts and
// records calls, the way programs and tests written for the original client
// checked what the client logged.

class LoggerStub {
  constructor() {
    this.reset();
  }

  /** Forget every recorded call. */
  reset() {
    this.debugCount = 0;
    this.errorCount = 0;
    this.debugCalls = [];
    this.errorCalls = [];
  }

  /** pixl-logger: debug(level, msg, data). */
  debug(level, msg, data) {
    this.debugCount++;
    this.debugCalls.push({ level, msg, data });
  }

  /** pixl-logger: error(code, msg, data). */
  error(code, msg, data) {
    this.errorCount++;
    this.errorCalls.push({ code, msg, data });
  }

  /** The `debug(2, 'PixlIPC Stats', stats)` calls. */
  statsCalls() {
    return this.debugCalls.filter((call) => call.level === 2 && call.msg === 'PixlIPC Stats');
  }

  /** Error calls with this code. */
  errorsWithCode(code) {
    return this.errorCalls.filter((call) => call.code === code);
  }
}

module.exports = { LoggerStub };
