import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

// @types/node leaves WebAssembly to the DOM typings; this is the part used here
declare const WebAssembly: {
  instantiate(
    bytes: Buffer,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

type Bindings = { SchemaEngine: typeof SchemaEngine; __wbg_set_wasm(exports: unknown): void };

let bindings: Promise<Bindings> | undefined;

/**
 * Loads Prisma's schema engine compiled to WebAssembly. Prisma's native engines
 * are downloaded at install time from a host some machines cannot reach; the
 * wasm build ships inside its npm package and talks to PostgreSQL through the
 * same pg driver adapter as the application.
 */
function loadBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    installPanicRegistry();
    const module = require('@prisma/schema-engine-wasm/schema_engine_bg') as Bindings;
    const wasmPath = join(
      dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
      'schema_engine_bg.wasm',
    );
    const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
      './schema_engine_bg.js': module,
    });
    module.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
    return module;
  })();
  return bindings;
}

/** The wasm engine reports a Rust panic's text through this global before it throws. */
function installPanicRegistry(): void {
  const holder = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(m: string): void } };
  holder.PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message(message: string) {
      lastPanic = message;
    },
  };
}

let lastPanic: string | undefined;

/** Rethrows an engine failure with the panic text, when the engine panicked. */
export function engineError(error: unknown): Error {
  const panic = lastPanic;
  lastPanic = undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(panic ? `schema engine panicked: ${panic}` : `schema engine: ${message}`);
}

export interface EngineHandle {
  engine: SchemaEngine;
  close(): Promise<void>;
}

export async function openSchemaEngine(
  databaseUrl: string,
  // the engine refuses to start without a datamodel, even for work that needs none
  datamodels: [string, string][] = [
    ['schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n'],
  ],
  log: (line: string) => void = () => undefined,
): Promise<EngineHandle> {
  const { SchemaEngine: Engine } = await loadBindings();
  // our own pool, so that closing the engine really closes its connections
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const adapterFactory = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool));
  try {
    const engine = await Engine.new({ datamodels }, log, adapterFactory);
    return {
      engine,
      close: async () => {
        engine.free();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end();
    throw engineError(error);
  }
}
