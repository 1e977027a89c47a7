// Minimal typings for the parts of pixl-server that this package touches (an
// ambient module: compiled, it becomes the .d.ts that the published server.d.ts imports).
declare module 'pixl-server/component' {
  import { EventEmitter } from 'events';

  interface ConfigNode {
    get(key?: string): any;
    set(key: string, value: unknown): void;
    on(event: 'reload', listener: () => void): void;
  }

  interface HostServer extends EventEmitter {
    config: ConfigNode;
    logger: any;
    [component: string]: any;
  }

  class Component extends EventEmitter {
    __name: string;
    server: HostServer;
    config: ConfigNode;
    defaultConfig: Record<string, unknown> | null;
    logger: any;
    init(server: HostServer, config?: ConfigNode): void;
    initConfig(): void;
    startup(callback: (err?: Error | null) => void): void;
    shutdown(callback: (err?: Error | null) => void): void;
    debugLevel(level: number): boolean;
    logDebug(level: number, msg: string, data?: unknown): void;
    logError(code: string | number, msg: string, data?: unknown): void;
  }
  export = Component;
}

declare module 'pixl-server' {
  import { EventEmitter } from 'events';
  class PixlServer extends EventEmitter {
    constructor(options: Record<string, any>);
    config: any;
    logger: any;
    startup(callback?: () => void): void;
    shutdown(callback?: () => void): void;
    [component: string]: any;
  }
  export = PixlServer;
}
