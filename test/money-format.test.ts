// Money as people read it: amounts are integers of the currency's minor unit, and that unit has 2 decimals
// for CNY and USD, none for JPY and KRW, 3 for KWD and BHD. One helper knows which; every message uses it.
import { randomUUID } from 'node:crypto';
import { createStaffActivities } from '../activities/staff.activities';
import { formatMoney, minorUnitDigits } from '../activities/templates/render';
import { connectModels, type Models } from '../models';
import { addPeople } from '../generators/demo-data';
import { testEnvironment } from './support/environment';

/** ICU separates a currency code from its amount with a no-break space. */
const nbsp = '\u00a0';

describe('minorUnitDigits', () => {
  test.each([
    ['CNY', 2],
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
  ])('%s has %i', (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });
});

describe('formatMoney', () => {
  test.each([
    // CNY and USD exactly as the customer and department messages have always written them.
    ['zh-CN', 38800, 'CNY', '¥388.00'],
    ['en', 38800, 'CNY', 'CN¥388.00'],
    ['zh-CN', 33600, 'USD', 'US$336.00'],
    ['en', 33600, 'USD', '$336.00'],
    ['en', 123456789, 'CNY', 'CN¥1,234,567.89'],
    ['zh-CN', 5, 'CNY', '¥0.05'],
    // No minor unit: 3880 yen is 3,880 yen, not 38.80.
    ['zh-CN', 3880, 'JPY', 'JP¥3,880'],
    ['en', 3880, 'JPY', '¥3,880'],
    ['en', 38800, 'KRW', '₩38,800'],
    // Three decimals: 1234 fils is 1.234 dinars, not 12.34.
    ['zh-CN', 1234, 'KWD', `KWD${nbsp}1.234`],
    ['en', 1234, 'KWD', `KWD${nbsp}1.234`],
    ['en', 1, 'BHD', `BHD${nbsp}0.001`],
  ] as const)('%s %i %s is %s', (language, minor, currency, written) => {
    expect(formatMoney(language, minor, currency)).toBe(written);
  });
});

describe("finance's settlement request (R11, R28)", () => {
  let models: Models;

  beforeAll(async () => {
    models = await connectModels(testEnvironment().mongoUri, `money_format_${randomUUID().slice(0, 8)}`);
    await addPeople(models, [
      {
        personId: 'finance-zh',
        name: '王敏',
        email: 'wang.min@cancelflow.local',
        language: 'zh-CN',
        department: 'finance',
        roles: ['finance_clerk'],
        approvalLevel: 0,
      },
      {
        personId: 'finance-en',
        name: 'Ada Park',
        email: 'ada.park@cancelflow.local',
        language: 'en',
        department: 'finance',
        roles: ['finance_clerk'],
        approvalLevel: 0,
      },
    ]);
  });

  afterAll(async () => {
    await models.db.dropDatabase();
    await models.db.close();
  });

  test.each([
    ['CNY', 24000, '¥240.00', 'CN¥240.00'],
    ['JPY', 3880, 'JP¥3,880', '¥3,880'],
    ['KWD', 1234, `KWD${nbsp}1.234`, `KWD${nbsp}1.234`],
  ])('states a %s amount of %i in each clerk’s language', async (currency, minor, inChinese, inEnglish) => {
    const cancellationId = `cancel-${currency}`;
    await createStaffActivities({ models }).requestSettlement({
      cancellationId,
      orderNumber: `SO-${currency}`,
      clerks: ['finance-zh', 'finance-en'],
      outstandingMinor: minor,
      currency,
      failure: 'card_declined',
    });
    const asked = await models.MessageCentreEntry.find({ cancellationId }).sort({ recipientId: 1 }).lean();
    expect(asked.map((entry) => [entry.recipientId, entry.language])).toEqual([
      ['finance-en', 'en'],
      ['finance-zh', 'zh-CN'],
    ]);
    expect(asked[0]?.body).toContain(`refund of ${inEnglish} for cancellation ${cancellationId}`);
    expect(asked[1]?.body).toContain(`的退款 ${inChinese} 被支付网关拒绝`);
  });
});
