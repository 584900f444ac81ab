/** Command-line options shared by `npm run bench` and `npm run chaos`. */
export interface RunOptions {
  /** Small N and fewer runs: the CI form, well under a minute. */
  quick: boolean;
  /** Where the Markdown goes; quick runs never overwrite the published docs/*.md unless told to. */
  out: string | undefined;
  /** Only these sections (comma-separated names); all when absent. */
  only: Set<string> | undefined;
  /** Seed of the chaos suite's random choices (reported, so a run can be replayed). */
  seed: number | undefined;
  /** Bench: receipts of the ages section's growth run instead of its default (20,000; 100 with --quick). */
  receipts: number | undefined;
  /** Bench: the ages (days) the ages section builds instead of its default. */
  ages: number[] | undefined;
}

export function parseRunOptions(argv: readonly string[]): RunOptions {
  const options: RunOptions = {
    quick: false,
    out: undefined,
    only: undefined,
    seed: undefined,
    receipts: undefined,
    ages: undefined,
  };
  const positive = (arg: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} needs a whole number ≥ 0, not ${text}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--out') options.out = value();
    else if (arg === '--only')
      options.only = new Set(
        value()
          .split(',')
          .map((s) => s.trim()),
      );
    else if (arg === '--seed') options.seed = Number.parseInt(value(), 10);
    else if (arg === '--receipts') options.receipts = positive(arg, value());
    else if (arg === '--ages')
      options.ages = value()
        .split(',')
        .map((day) => positive(arg, day.trim()));
    else
      throw new Error(
        `unknown option ${arg} (known: --quick, --out <file>, --only <a,b>, --seed <n>, --receipts <n>, --ages <days,…>)`,
      );
  }
  return options;
}
