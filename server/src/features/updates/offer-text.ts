import type { InstallOffer } from './install-offer.ts';

const indent = (text: string, by: string) => text.split('\n').map((line) => `${by}${line}`).join('\n');

/**
 * The install offer as the CLI prints it: each line under its OS, ready to copy; for a package
 * this server does not have, why and the commands that publish one; the notes last.
 */
export function installOfferText(offer: InstallOffer): string {
  const blocks = offer.options.map((option) => {
    if (option.line) return `${option.title}: ${option.how}\n  ${option.line}`;
    const why = option.unavailable;
    return `${option.title}: no line. ${why?.reason ?? ''}${why?.publish ? `\n${indent(why.publish, '    ')}` : ''}`;
  });
  const notes = offer.notes.map((note) => `Note: ${note}`);
  return `${[...blocks, ...notes].join('\n\n')}\n`;
}
