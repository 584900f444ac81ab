import { describe, expect, it } from 'vitest';
import { splitWebFaultSpecs } from './faults.js';

describe('web fault specs', () => {
  it('takes the web faults and leaves the register’s', () => {
    expect(
      splitWebFaultSpecs([
        'drop-after-accept',
        'http-500=2',
        'no-paper',
        'task-slow-ms=300@sell,sellReturn',
        'slow-ms=5',
      ]),
    ).toEqual({
      web: [
        { name: 'dropAfterAccept', value: 1 },
        { name: 'http500', value: 2 },
        { name: 'taskSlowMs', value: 300, taskTypes: ['sell', 'sellReturn'] },
      ],
      register: ['no-paper', 'slow-ms=5'],
    });
    expect(
      splitWebFaultSpecs(['http-500-after-accept', 'lose-results-after-run=3', 'interrupt-task@sell']).web,
    ).toEqual([
      { name: 'http500AfterAccept', value: 1 },
      { name: 'loseResultsAfterRun', value: 3 },
      { name: 'interruptTask', value: 1, taskTypes: ['sell'] },
    ]);
  });

  it('refuses a bad count', () => {
    expect(() => splitWebFaultSpecs(['drop-after-accept=-1'])).toThrow(/whole number/);
  });
});
