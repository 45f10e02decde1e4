/** UXC_STATUS_MAP is parsed with the rest of the configuration. */
export * from '../config/status-map';
