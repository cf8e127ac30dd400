/** What other features use of organizations: finding one by id or name (the CLI's `--org`), creating one (a provider's clients). */
export { organizationName, runsInstall } from './organizations.ts';
export { createOrganization, createOrganizationWithPerson, findOrganization, listOrganizationSummaries, type Organization, type Placement } from './organizations.ts';
