export * from './address-policy';
export * from './callback-url-policy';
export * from './webhook-payload';
export * from './webhook-signer';
