#!/bin/sh
# /usr/local/bin/ninjait-agent
exec /usr/local/ninjait/bin/node /usr/local/ninjait/lib/launcher.mjs "$@"
