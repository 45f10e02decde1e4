import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

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
    const module = require('@prisma/schema-engine-wasm/schema_engine_bg') as Bindings;
    const wasmPath = join(
      dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
      'schema_engine_bg.wasm',
    );
    const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
      './schema_engine_bg.js': module as unknown as WebAssembly.ModuleImports,
    });
    module.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
    return module;
  })();
  return bindings;
}

export interface EngineHandle {
  engine: SchemaEngine;
  close(): Promise<void>;
}

export async function openSchemaEngine(
  databaseUrl: string,
  datamodels: [string, string][] = [],
  log: (line: string) => void = () => undefined,
): Promise<EngineHandle> {
  const { SchemaEngine: Engine } = await loadBindings();
  const adapterFactory = bindMigrationAwareSqlAdapterFactory(
    new PrismaPg({ connectionString: databaseUrl }),
  );
  const engine = await Engine.new({ datamodels }, log, adapterFactory);
  return {
    engine,
    close: async () => {
      engine.free();
    },
  };
}
