/** What other parts use of interactive shells: the service the command feature builds. */
export { createShellService, type ShellService } from './shell-service.ts';
