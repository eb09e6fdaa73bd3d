/** What the chaos controls do to the API; all off by default. */
export interface ChaosSettings {
  /** Every API request's connection is reset as it arrives: to the browser, the network is down. */
  down: boolean;
  /** Share of API requests, 0 to 1, whose connection is reset before anything is applied. */
  flaky: number;
  /** Milliseconds each API request waits before it is processed. */
  slowMs: number;
  /** Seconds of Retry-After on a 503 answered to every API request; 0: off. */
  unavailableFor: number;
  /** Writes are applied, then their connection is reset before the answer is sent. */
  loseResponses: boolean;
}

export const CALM: Readonly<ChaosSettings> = { down: false, flaky: 0, slowMs: 0, unavailableFor: 0, loseResponses: false };

/** What happens to one API request before it is processed. */
export type Disruption = { kind: 'reset' } | { kind: 'unavailable'; retryAfter: number } | { kind: 'none'; delayMs: number };

export class Chaos {
  #settings: ChaosSettings = { ...CALM };

  get settings(): ChaosSettings {
    return { ...this.#settings };
  }

  /** Changes some settings; throws a TypeError naming the setting at fault. */
  update(input: unknown): ChaosSettings {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('Chaos settings must be a JSON object, such as {"down": true}.');
    const next = { ...this.#settings };
    for (const [name, value] of Object.entries(input)) {
      if (!(name in CALM)) throw new TypeError(`Unknown chaos setting "${name}"; the settings are ${Object.keys(CALM).join(', ')}.`);
      const setting = name as keyof ChaosSettings;
      if (typeof CALM[setting] === 'boolean') {
        if (typeof value !== 'boolean') throw new TypeError(`Chaos setting "${name}" must be true or false.`);
      } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (setting === 'flaky' && value > 1)) {
        throw new TypeError(`Chaos setting "${name}" must be a number ${setting === 'flaky' ? 'from 0 to 1' : 'of 0 or more'}.`);
      }
      (next as Record<string, unknown>)[name] = value;
    }
    this.#settings = next;
    return this.settings;
  }

  reset(): ChaosSettings {
    this.#settings = { ...CALM };
    return this.settings;
  }

  disruption(random = Math.random()): Disruption {
    const { down, flaky, unavailableFor, slowMs } = this.#settings;
    if (down || random < flaky) return { kind: 'reset' };
    if (unavailableFor > 0) return { kind: 'unavailable', retryAfter: unavailableFor };
    return { kind: 'none', delayMs: slowMs };
  }

  get losesResponses(): boolean {
    return this.#settings.loseResponses;
  }
}
