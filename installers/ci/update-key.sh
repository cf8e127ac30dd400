#!/usr/bin/env bash
# CI: writes keys/update-key.pem and keys/update-key.pub. With SIGNING_KEY (the release key's
# PEM, a CI secret) the packages trust the real key; without it (pull requests) a throwaway
# key is made, so the build and tests run but its packages can never update real agents.
set -euo pipefail
mkdir -p keys
if [ -n "${SIGNING_KEY:-}" ]; then
  (umask 077 && printf '%s\n' "$SIGNING_KEY" >keys/update-key.pem)
  node -e "const c=require('node:crypto');const k=c.createPublicKey(require('node:fs').readFileSync('keys/update-key.pem'));if(k.asymmetricKeyType!=='ed25519')throw new Error('not Ed25519');process.stdout.write(k.export({type:'spki',format:'pem'}))" >keys/update-key.pub
  echo "update key: release key"
else
  node --import tsx installers/sign.ts keygen --out keys --force >/dev/null
  echo "update key: throwaway (no NINJAIT_UPDATE_SIGNING_KEY secret)"
fi
