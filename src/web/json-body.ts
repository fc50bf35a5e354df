import express, { type RequestHandler } from 'express';
import { AppError } from '../errors';

/**
 * Parses a JSON body up to `limit`, refusing other media types with 415 before reading a byte,
 * and anything but an object with 400.
 */
export function jsonObjectBody(limit: string): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) {
      next(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send a JSON object with Content-Type: application/json.'));
      return;
    }
    next();
  };
  const requireObject: RequestHandler = (req, _res, next) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      next(new AppError('VALIDATION_FAILED', 'The body must be a JSON object.'));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit, strict: false }), requireObject];
}
