/**
 * What this package sees of pixl-server, typed (pixl-server ships no types):
 * the Component base class IPCServer extends, and the PixlServer class the
 * package re-exports. Plain exported types rather than a global
 * `declare module 'pixl-server'`, so a project that declares pixl-server
 * itself keeps its own declaration without a clash.
 */
import type { EventEmitter } from 'events';
import type { IPCServerConfig } from './config-types';

/** A section of pixl-server's configuration (pixl-config). */
export interface ConfigNode {
  /** The whole section. */
  get(): Record<string, unknown>;
  /** One key of the section. */
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  on(event: 'reload', listener: () => void): unknown;
}

/** pixl-logger, as pixl-server hands it to components. */
export interface PixlLogger {
  /** The file it appends to. */
  path?: string;
  debug(level: number, message: string, data?: unknown): void;
  error(code: string | number, message: string, data?: unknown): void;
}

/** The configuration given to `new PixlServer({ config })`: pixl-server's own keys, and a section per component. */
export interface PixlServerConfig {
  /** This package's section: a misspelled key is a compile error here. */
  IPCServer?: IPCServerConfig;
  [key: string]: unknown;
}

/** The options of `new PixlServer(options)`. */
export interface PixlServerOptions {
  __name: string;
  __version: string;
  /** The configuration, or the path of a JSON file with it (see also `configFile`). */
  config?: PixlServerConfig | string;
  configFile?: string;
  /** Component classes, such as `require('pixl-ipc')`. */
  components: unknown[];
  [option: string]: unknown;
}

/** A pixl-server daemon. Its components are properties named after them (`server.IPCServer`): use `IPCServer.from(server)` for the typed one. */
export interface PixlServer extends EventEmitter {
  readonly config: ConfigNode;
  readonly logger: PixlLogger;
  /** True once shutdown has begun. */
  readonly shut?: boolean;
  /** Starts every component; calls back once all have started (a failed startup exits the process with 1). */
  startup(callback?: () => void): void;
  /** Stops every component, then calls back. */
  shutdown(callback?: () => void): void;
  [component: string]: unknown;
}

export interface PixlServerConstructor {
  new (options: PixlServerOptions): PixlServer;
}

/** pixl-server's Component: the base class of every component, IPCServer included. */
export interface PixlComponent extends EventEmitter {
  __name: string;
  /** The pixl-server it belongs to (set by pixl-server before startup). */
  server: PixlServer;
  /** This component's section of the configuration. */
  config: ConfigNode;
  defaultConfig: Record<string, unknown> | null;
  logger: PixlLogger;
  init(server: PixlServer, config?: ConfigNode): void;
  startup(callback: (err?: Error | null) => void): void;
  shutdown(callback: (err?: Error | null) => void): void;
  /** True when the logger's debug level is at least `level`. */
  debugLevel(level: number): boolean;
  logDebug(level: number, message: string, data?: unknown): void;
  logError(code: string | number, message: string, data?: unknown): void;
}

/** The runtime base class, typed. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Component = require('pixl-server/component') as new () => PixlComponent;

/** pixl-server's class, typed (the same object as `require('pixl-server')`). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const PixlServer = require('pixl-server') as PixlServerConstructor;
