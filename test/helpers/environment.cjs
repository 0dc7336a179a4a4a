// Tests compute dates as UTC calendar days; run them on a UTC county calendar so they hold at any hour.
// (test/calendar.test.ts checks the county default, Asia/Shanghai, explicitly.)
process.env.COUNTY_TIME_ZONE ??= 'UTC';
