// Customers' phone numbers (#13): read into E.164 with the customer's country when they enter the books, on
// every write path, and refused there when they cannot be read; an SMS is sent to that number
// (notifications.test.ts sends one to each way the generated books write a phone).
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CancelflowError } from '../lib/errors';
import { readPhone, toE164 } from '../lib/phone';
import { connectModels, type Models } from '../models';
import { customerPhoneE164 } from '../models/customer.model';
import { makeCustomer } from '../generators/books/customers';
import { addCustomer } from '../generators/demo-data';
import { testEnvironment } from './support/environment';

describe('reading a phone number', () => {
  test.each([
    ['+1 (512) 555-0534', undefined, '+15125550534'],
    ['+1 512-555-0534', 'CN', '+15125550534'], // its own country code wins
    ['(512) 555-0534', 'US', '+15125550534'],
    ['512.555.0534', 'US', '+15125550534'],
    ['+86 138 0013 8000', undefined, '+8613800138000'],
    ['(+86) 138 0013 8000', undefined, '+8613800138000'],
    ['0086 13800138000', undefined, '+8613800138000'],
    ['0086 13800138000', 'CN', '+8613800138000'],
    ['＋８６ １３８ ００１３ ８０００', undefined, '+8613800138000'],
    ['138-0013-8000', 'CN', '+8613800138000'],
    ['13800138000', 'cn', '+8613800138000'],
    ['010-1234 5678', 'CN', '+861012345678'], // a landline: the trunk 0 goes
  ])('%s (country %s) is %s', (written, country, e164) => {
    expect(readPhone(written, country)).toEqual({ ok: true, e164 });
    expect(toE164(written, country)).toBe(e164);
  });

  test.each([
    ['138-0013-8000', undefined, 'has no country code, and no country was given to read it with'],
    ['138-0013-8000', 'US', 'is not a valid number in US'],
    ['+86 123', undefined, 'is not a valid number in CN'],
    ['12345', 'CN', 'is not a valid number in CN'],
    ['call me', 'CN', 'is not a phone number'],
    ['(512) 555-0534', 'XX', 'cannot be read for country "XX": not a country code'],
  ])('%s (country %s) %s', (written, country, problem) => {
    expect(readPhone(written, country)).toEqual({ ok: false, problem });
    expect(toE164(written, country)).toBeUndefined();
    expect(() => customerPhoneE164(written, country)).toThrow(
      new CancelflowError(
        'validation_failed',
        `phone "${written}"${country ? ` (country ${country})` : ''} ${problem}`,
      ),
    );
  });

  test('every phone the generated books write is read to its E.164 number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.nat(5000), (seed, index) => {
        const { document, market } = makeCustomer(seed, index);
        if (document.phone === undefined) return;
        const digits = document.phone.normalize('NFKC').replace(/\D/g, '');
        const e164 = market === 'CN' ? `+86${digits.slice(-11)}` : `+1${digits.slice(-10)}`;
        expect(document.country).toBe(market);
        expect(document.phoneE164).toBe(e164);
        expect(customerPhoneE164(document.phone, document.country)).toBe(e164);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the books read phones as they enter them', () => {
  let models: Models;

  beforeAll(async () => {
    models = await connectModels(testEnvironment().mongoUri, `customer_phone_${randomUUID().slice(0, 8)}`);
    await models.Customer.init();
  });

  afterAll(async () => {
    await models.Customer.db.dropDatabase();
    await models.Customer.db.close();
  });

  const stored = (customerId: string) =>
    models.Customer.findOne({ customerId }, { _id: 0, phone: 1, phoneE164: 1, country: 1 }).lean();
  const refusal = (written: Promise<unknown>) =>
    written.then(() => undefined).catch((error: unknown) => error);
  const refused = (problem: string) =>
    expect.objectContaining({
      code: 'validation_failed',
      message: problem,
      details: { field: 'phone' },
    }) as unknown;

  test('create, insertMany (the books loader, lean) and an upsert keep the number as written and its E.164 form', async () => {
    await models.Customer.create({ customerId: 'P-1', name: '王芳', phone: '138-0013-8000', country: 'CN' });
    await models.Customer.insertMany(
      [{ customerId: 'P-2', name: 'Emily Carter', phone: '(512) 555-0534', country: 'US' }],
      { lean: true },
    );
    await addCustomer(models, {
      customerId: 'P-3',
      name: '李娜',
      phone: '＋８６ １３９ ００１３ ９０００',
      language: 'zh-CN',
    });
    await models.Customer.bulkWrite([
      { insertOne: { document: { customerId: 'P-4', name: 'Mia Hall', phone: '+1 212-555-0101' } } },
    ]);
    expect(await stored('P-1')).toEqual({
      phone: '138-0013-8000',
      country: 'CN',
      phoneE164: '+8613800138000',
    });
    expect(await stored('P-2')).toEqual({
      phone: '(512) 555-0534',
      country: 'US',
      phoneE164: '+15125550534',
    });
    expect(await stored('P-3')).toMatchObject({ phoneE164: '+8613900139000' });
    expect(await stored('P-4')).toMatchObject({ phoneE164: '+12125550101' });
  });

  test('a number that cannot be read is refused, naming it, on every write path, and nothing is written', async () => {
    const national = 'phone "138-0013-8000" has no country code, and no country was given to read it with';
    expect(
      await refusal(models.Customer.create({ customerId: 'P-10', name: '赵敏', phone: '138-0013-8000' })),
    ).toEqual(refused(national));
    expect(
      await refusal(
        models.Customer.insertMany([{ customerId: 'P-11', name: '赵敏', phone: '+86 123', country: 'CN' }], {
          lean: true,
        }),
      ),
    ).toEqual(refused('phone "+86 123" (country CN) is not a valid number in CN'));
    expect(
      await refusal(
        models.Customer.updateOne(
          { customerId: 'P-12' },
          { $setOnInsert: { name: 'Jack King', phone: '138-0013-8000', country: 'US' } },
          { upsert: true },
        ),
      ),
    ).toEqual(refused('phone "138-0013-8000" (country US) is not a valid number in US'));
    expect(
      await refusal(
        models.Customer.bulkWrite([
          { insertOne: { document: { customerId: 'P-13', name: '赵敏', phone: '12345' } } },
        ]),
      ),
    ).toEqual(refused('phone "12345" has no country code, and no country was given to read it with'));
    expect(
      await models.Customer.countDocuments({ customerId: { $in: ['P-10', 'P-11', 'P-12', 'P-13'] } }),
    ).toBe(0);
  });

  test('a changed number is read again, with the country written along or, saved, the customer’s own', async () => {
    await models.Customer.create({
      customerId: 'P-20',
      name: 'Emily Carter',
      phone: '+14155550123',
      country: 'US',
    });

    await models.Customer.updateOne({ customerId: 'P-20' }, { $set: { phone: '+1 (646) 555-0199' } });
    expect(await stored('P-20')).toMatchObject({ phoneE164: '+16465550199' });

    // Written nationally, the number needs the country in the same update: the update cannot see the stored one.
    expect(
      await refusal(models.Customer.updateOne({ customerId: 'P-20' }, { $set: { phone: '(206) 555-0142' } })),
    ).toEqual(
      refused('phone "(206) 555-0142" has no country code, and no country was given to read it with'),
    );
    expect(await stored('P-20')).toMatchObject({ phone: '+1 (646) 555-0199', phoneE164: '+16465550199' });
    await models.Customer.findOneAndUpdate(
      { customerId: 'P-20' },
      { $set: { phone: '(206) 555-0142', country: 'US' } },
    );
    expect(await stored('P-20')).toMatchObject({ phone: '(206) 555-0142', phoneE164: '+12065550142' });

    // A document being saved has its country.
    const customer = await models.Customer.findOne({ customerId: 'P-20' }).orFail();
    customer.phone = '617.555.0100';
    await customer.save();
    expect(await stored('P-20')).toMatchObject({ phone: '617.555.0100', phoneE164: '+16175550100' });

    await models.Customer.updateOne({ customerId: 'P-20' }, { $unset: { phone: 1 } });
    expect(await stored('P-20')).toEqual({ country: 'US' });
  });
});
