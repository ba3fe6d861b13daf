// dynalite 4 ships no types; this is the part of its API the sandbox uses.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** LevelDB directory; in memory (memory-level) when absent. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }

  /** An unstarted `http.Server` answering DynamoDB JSON requests; `close()` also closes the store. */
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
