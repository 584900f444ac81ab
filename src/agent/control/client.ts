import net from 'node:net';
import { KktAgentError } from '../../lib/errors.js';
import type { ControlResponse } from './protocol.js';

export class ControlCallError extends KktAgentError {}

/** Calls one method on the running daemon over its unix socket. */
export function callControl(
  socketPath: string,
  method: string,
  params: Record<string, unknown> = {},
  timeoutMs = 60_000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new ControlCallError(
          'CONTROL_TIMEOUT',
          `The agent did not answer "${method}" within ${timeoutMs} ms.`,
        ),
      );
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const notRunning = error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
      reject(
        new ControlCallError(
          notRunning ? 'AGENT_NOT_RUNNING' : 'CONTROL_CONNECT_FAILED',
          notRunning
            ? `The agent is not running (no control socket at ${socketPath}). Start it: systemctl start kkt-agent`
            : `Cannot reach the agent at ${socketPath}: ${error.message}${error.code === 'EACCES' ? ' (run as the kkt-agent user or a member of its group)' : ''}`,
        ),
      );
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      socket.end();
      const response = JSON.parse(buffer.slice(0, newline)) as ControlResponse;
      if (response.ok) resolve(response.result);
      else
        reject(
          new ControlCallError(
            response.error.code,
            response.error.message,
            (response.error.details as Record<string, unknown>) ?? {},
          ),
        );
    });
    socket.once('connect', () => socket.write(`${JSON.stringify({ id: 1, method, params })}\n`));
    // An agent that dies while it works (a crash, a kill) closes the socket without an answer.
    socket.once('close', () => {
      clearTimeout(timer);
      reject(
        new ControlCallError(
          'CONTROL_CLOSED',
          `The agent closed the connection without answering "${method}"; it may have stopped. Check: systemctl status kkt-agent`,
        ),
      );
    });
  });
}
