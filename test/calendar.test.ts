import { countyToday } from '../src/care-rules/calendar.js';

test('the county day is the date in Asia/Shanghai: 20:00 UTC is already tomorrow there', () => {
  expect(countyToday(new Date('2026-11-23T20:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-24');
  expect(countyToday(new Date('2026-11-23T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-11-23');
  expect(countyToday(new Date('2026-11-23T20:00:00Z'), 'UTC')).toBe('2026-11-23');
});
