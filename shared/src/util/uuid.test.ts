import { describe, expect, it } from 'vitest';
import { isUuid } from './uuid.ts';

describe('isUuid', () => {
  it('takes a UUID of any version in either case, and nothing around it', () => {
    expect(isUuid('0b8e3c52-5d0e-4c1b-9a57-1f0e2d3c4b5a')).toBe(true);
    expect(isUuid('0B8E3C52-5D0E-4C1B-9A57-1F0E2D3C4B5A')).toBe(true);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(true);
    for (const value of [' 0b8e3c52-5d0e-4c1b-9a57-1f0e2d3c4b5a', '0b8e3c52-5d0e-4c1b-9a57-1f0e2d3c4b5a\n', '{0b8e3c52-5d0e-4c1b-9a57-1f0e2d3c4b5a}',
      '0b8e3c525d0e4c1b9a571f0e2d3c4b5a', '0b8e3c52-5d0e-4c1b-9a57-1f0e2d3c4b5g', '', null, undefined, 42, {}]) {
      expect(isUuid(value), String(value)).toBe(false);
    }
  });
});
