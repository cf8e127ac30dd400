#!/bin/sh
# /usr/bin/ninjait-agent: the launcher picks the agent version (packaged or auto-updated).
exec /opt/ninjait/bin/node /opt/ninjait/lib/launcher.mjs "$@"
