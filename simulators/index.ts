// Local stand-ins for the services cancelflow talks to but cannot reach in tests and on a laptop.
export * from './carrier.simulator';
export * from './mail-catcher';
export * from './payment-gateway.simulator';
export * from './sms.simulator';
