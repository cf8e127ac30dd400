export * from './constants.ts';
export * from './roles.ts';
export * from './schemas/sample.ts';
export * from './schemas/inventory.ts';
export * from './schemas/ingest.ts';
export * from './schemas/enroll.ts';
export * from './schemas/devices.ts';
export * from './env.ts';
