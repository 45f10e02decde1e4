import { INestApplication } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/project-root';

export const CONSOLE_PATH = '/console';

/** Where `npm run build` puts the console (Vite's outDir). */
export function consoleDir(): string {
  return join(projectRoot(), 'dist', 'console');
}

// the console loads only its own files and calls only this origin's API
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Serves the ops console's static build at /console, before Nest's routes:
 * hashed assets for a year, and index.html for every other GET below
 * /console so the console's own routes survive a reload (SPA fallback).
 * No auth here: the files hold no data, the API calls they make carry the
 * key. A missing asset stays a 404, and /v1 is never touched.
 */
export function serveConsole(app: INestApplication, dir: string = consoleDir()): void {
  const indexFile = join(dir, 'index.html');
  const assets = express.static(dir, {
    index: false,
    fallthrough: true,
    setHeaders: (res, file) => {
      if (file.includes(`${join(dir, 'assets')}`)) {
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      }
    },
  });
  let index: string | undefined;
  app.use(CONSOLE_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    assets(req, res, () => {
      // a file that looks like an asset and is not there is a plain 404
      if (req.path.startsWith('/assets/')) return next();
      if (index === undefined) {
        if (!existsSync(indexFile)) {
          res
            .status(404)
            .type('text/plain')
            .send('The console is not built: run `npm run build` (npm start builds it too).\n');
          return;
        }
        index = readFileSync(indexFile, 'utf8');
      }
      res
        .status(200)
        .setHeader('Cache-Control', 'no-cache')
        .setHeader('Content-Security-Policy', CSP)
        .setHeader('X-Content-Type-Options', 'nosniff')
        .type('html')
        .send(index);
    });
  });
}
