// Requests that never reach Fastify's router: HTTP Node's parser refuses (a control character in a
// header, Content-Length beside Transfer-Encoding, headers over its 16 KiB limit) and requests
// that take too long to arrive. Node answers those on the socket itself; here they get the API's
// error shape, and the connection is closed.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { ApiError, errorBody } from '../errors.ts';

/**
 * How long a request's headers and body may take to arrive. A client trickling a body a byte at a
 * time otherwise holds its connection (and a file descriptor) as long as it likes, with or
 * without a key: Fastify turns Node's own 300 s limit off unless it is set. The API's bodies are
 * 1 MiB at most, a matter of seconds on a slow link.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** How often Node looks for requests past that limit (its default, 30 s, would let one run to a minute). */
export const REQUEST_TIMEOUT_CHECK_MS = 5_000;

/** The answer for a request Node's HTTP parser refused, or that did not arrive in time. */
export function clientErrorAnswer(code: string | undefined): ApiError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new ApiError('request_timeout', `request: the headers and body did not arrive within ${REQUEST_TIMEOUT_MS / 1000} s`);
  if (code === 'HPE_HEADER_OVERFLOW') return new ApiError('headers_too_large', 'headers: the request line and headers are over 16 KiB');
  return new ApiError('malformed_request', `request: not well-formed HTTP (${code ?? 'unknown parse error'})`);
}

/** Fastify's clientErrorHandler: the API's error shape on the socket, then the connection closes. */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A response of the connection's under way (its headers gone): an answer written now would land
  // inside its body. The connection is ended instead, as Node's own handler does.
  const underWay = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || !socket.writable || underWay) {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(error.code);
  const body = JSON.stringify(errorBody(answer));
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
