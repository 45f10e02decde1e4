import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { json, NextFunction, Request, Response } from 'express';
import { buildOpenApiDocument } from './common/openapi';
import { serveConsole } from './console/console-static';
import { RelayLogger } from './logging/relay-logger';

export const BODY_LIMIT = '1mb';

/**
 * What every running relay shares with the e2e tests: the logger, body
 * parsing with its limit, the OpenAPI document and shutdown hooks.
 */
export function configureApp(
  app: INestApplication,
  options: { shutdownHooks?: boolean } = {},
): INestApplication {
  app.useLogger(app.get(RelayLogger));
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.set('query parser', 'simple');

  const parseJson = json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] });
  // body-parser's own errors (broken JSON, too large) would otherwise bypass the
  // exception filter and answer with an HTML page
  app.use((req: Request, res: Response, next: NextFunction) =>
    parseJson(req, res, (error?: { status?: number; type?: string; message?: string }) => {
      if (!error) return next();
      const status = error.status ?? 400;
      const message =
        error.type === 'entity.too.large'
          ? `request body is larger than ${BODY_LIMIT}`
          : error.type === 'entity.parse.failed'
            ? 'request body is not valid JSON'
            : (error.message ?? 'bad request body');
      res.status(status).json({
        statusCode: status,
        error: status === 413 ? 'Payload Too Large' : 'Bad Request',
        message,
      });
    }),
  );

  // the ops console's static files, ahead of Nest's routes and their 404/405
  serveConsole(app);

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  // SIGTERM and Ctrl-C stop the loops, drain work and close the pool before exit
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  return app;
}
