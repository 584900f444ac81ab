import { PrintRefusedError } from '../device.js';

/** Any refusal that comes from asking the local module: nothing reached the register, the bill is refused. */
export class LocalModuleError extends PrintRefusedError {}
