/** The states live with the configuration, which parses UXC_STATUS_MAP into them. */
export * from '../config/task-state';
