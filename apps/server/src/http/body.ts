import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body as UTF-8 up to `max` bytes. A body declared (Content-Length) or found to
 * be larger is refused with `tooLarge(declaredBytes?)` before it is all read, and the request is
 * destroyed.
 */
export function readBody(req: IncomingMessage, max: number, tooLarge: (declaredBytes?: number) => Error): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge(declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
