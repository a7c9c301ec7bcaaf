// The tests' Temporal clients and workers encrypt payloads as the product does, with the configuration's local
// key, so the stored histories they record decode on any machine (test/replay.test.ts).
import { parseConfig } from '../../lib/config';
import { temporalDataConverter } from '../../lib/payload-codec';

export const TEST_DATA_CONVERTER = temporalDataConverter(parseConfig({}));
