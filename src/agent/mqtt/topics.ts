/**
 * The topic tree under `<prefix>/<deviceId>/` (docs/mqtt.md). One place builds and parses every topic.
 */
export class MqttTopics {
  readonly root: string;

  constructor(prefix: string, deviceId: string) {
    this.root = `${prefix}/${deviceId}`;
  }

  /** Retained presence: online / offline / lost, with the session counter. */
  get status(): string {
    return `${this.root}/status`;
  }

  /** Retained state document. */
  get state(): string {
    return `${this.root}/state`;
  }

  get configDesired(): string {
    return `${this.root}/config/desired`;
  }

  get configReported(): string {
    return `${this.root}/config/reported`;
  }

  get eventReceipt(): string {
    return `${this.root}/event/receipt`;
  }

  /** The subscription filter for every command. */
  get commandFilter(): string {
    return `${this.root}/cmd/+`;
  }

  command(name: string): string {
    return `${this.root}/cmd/${name}`;
  }

  response(name: string): string {
    return `${this.root}/resp/${name}`;
  }

  /** The command name of a `…/cmd/<name>` topic; undefined for any other topic. */
  commandName(topic: string): string | undefined {
    const prefix = `${this.root}/cmd/`;
    if (!topic.startsWith(prefix)) return undefined;
    const name = topic.slice(prefix.length);
    return name.length > 0 && !name.includes('/') ? name : undefined;
  }

  /** True for the root itself and every topic below it. */
  isOwn(topic: string): boolean {
    return topic === this.root || topic.startsWith(`${this.root}/`);
  }
}

/**
 * True for a topic inside any box's command tree (`…/cmd/…`, whatever the prefix and device id): publishing
 * there makes that box run a command. A response topic must never lead there (docs/mqtt.md, "Commands").
 */
export function insideCommandTree(topic: string): boolean {
  return topic.split('/').includes('cmd');
}

/** Why a command's response topic is refused (the command is then not run), or undefined when it may be used. */
export function responseTopicRefusal(topic: string): string | undefined {
  return insideCommandTree(topic)
    ? 'it lies inside a command tree (…/cmd/…), where an answer would run as a command'
    : undefined;
}
