import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the control socket's errors (server, client and methods), with what each means
 * (docs/errors.md is made from this list).
 */
export const CONTROL_ERROR_CODES = {
  AGENT_NOT_RUNNING: 'The agent is not running (no control socket). Start it: systemctl start kkt-agent.',
  CONTROL_CONNECT_FAILED:
    'The control socket exists but cannot be reached (permissions?). Run as the kkt-agent user or a member of its group.',
  CONTROL_TIMEOUT: 'The agent did not answer a control request in time.',
  CONTROL_CLOSED:
    'The agent closed the control connection without answering; it may have stopped. Check systemctl status kkt-agent.',
  CONTROL_SOCKET_PATH_TAKEN:
    'control.socketPath points at something that is not a stale socket. Point it at a free path.',
  CONTROL_SOCKET_BUSY: 'Another agent is already running on the control socket.',
  CONTROL_MALFORMED: 'A control request is not valid JSON.',
  CONTROL_REQUEST_TOO_LARGE: 'A control request is larger than the server accepts.',
  CONTROL_UNKNOWN_METHOD:
    'A control request names a method the agent does not have (a CLI newer than the agent?).',
  CONNECTOR_UNKNOWN: 'No connector with that name takes commands.',
  CONNECTOR_AMBIGUOUS: 'Several connectors take commands; name one with --account or --connector.',
  WIRE_TRACE_UNAVAILABLE: "This agent's device cannot trace the wire (not an ATOL protocol backend).",
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    control: CodesIn<typeof CONTROL_ERROR_CODES>;
  }
}
