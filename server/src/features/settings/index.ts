/** Organization and device settings: the router, and what applies to a device for features that read them. */
export { createSettingsRouter } from './settings.router.ts';
export { effectiveDeviceSettings, effectiveSettingsOfDevices } from './settings.ts';
export { settingsSchema, type Settings } from './schema.ts';
