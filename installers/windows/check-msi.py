#!/usr/bin/env python3
"""Checks the tables msiinfo exported from the wixl-built MSI against the WiX and WinSW sources.

  check-msi.py SOURCE.wxs SERVICE.xml WORK_DIR VERSION
WORK_DIR holds tables.txt, suminfo.txt, tables/<Table>.idt and bundle/ (see check-msi.sh).
Prints every problem and exits 1 if there was one.
"""
import os
import sys
import xml.etree.ElementTree as ET

V5 = '{http://wixtoolset.org/schemas/v4/wxs}'
# msidbServiceControlEvent: start on install, stop on install and uninstall, delete on uninstall.
SERVICE_EVENTS = 0x1 | 0x2 | 0x20 | 0x80
SERVICE_WIN32_OWN_PROCESS = 0x10
SERVICE_AUTO_START = 2


def read_table(work, name):
    """An .idt export: column names, types, table name, then rows (tab-separated)."""
    with open(os.path.join(work, 'tables', f'{name}.idt'), encoding='utf-8') as handle:
        lines = handle.read().splitlines()
    columns = lines[0].split('\t')
    return [dict(zip(columns, line.split('\t'))) for line in lines[3:] if line]


def main(source, service_xml, work, version):
    problems = []

    def expect(condition, message):
        if not condition:
            problems.append(message)

    package = ET.parse(source).getroot().find(f'{V5}Package')
    service = ET.parse(service_xml).getroot()
    upgrade_code = '{' + package.get('UpgradeCode').upper() + '}'

    with open(os.path.join(work, 'tables.txt'), encoding='utf-8') as handle:
        tables = set(handle.read().split())
    for table in ('Property', 'Upgrade', 'ServiceInstall', 'ServiceControl', 'File', 'Component', 'Directory',
                  'CreateFolder', 'FeatureComponents', 'Media', 'InstallExecuteSequence'):
        expect(table in tables, f'table {table} is missing')

    with open(os.path.join(work, 'suminfo.txt'), encoding='utf-8') as handle:
        suminfo = handle.read()
    expect('Template: x64;1033' in suminfo, 'summary information: not an x64 package (Template)')

    properties = {row['Property']: row['Value'] for row in read_table(work, 'Property')}
    expect(properties.get('ProductVersion') == version, f'ProductVersion {properties.get("ProductVersion")} is not {version}')
    expect(properties.get('UpgradeCode') == upgrade_code, f'UpgradeCode {properties.get("UpgradeCode")} is not {upgrade_code}')
    expect(properties.get('ProductName') == package.get('Name'), 'ProductName differs from the WiX source')
    expect(properties.get('Manufacturer') == package.get('Manufacturer'), 'Manufacturer differs from the WiX source')
    expect(properties.get('ALLUSERS') == '1', 'not a per-machine install (ALLUSERS)')

    upgrades = read_table(work, 'Upgrade')
    actions = {row['ActionProperty'] for row in upgrades if row['UpgradeCode'] == upgrade_code}
    expect(actions == {'WIX_UPGRADE_DETECTED', 'WIX_DOWNGRADE_DETECTED'}, f'major upgrade rows for {upgrade_code}: {sorted(actions)}')

    installs = read_table(work, 'ServiceInstall')
    expect(len(installs) == 1, f'{len(installs)} ServiceInstall rows, expected 1')
    for row in installs:
        expect(row['Name'] == service.findtext('id'), f'service {row["Name"]} is not the WinSW id {service.findtext("id")}')
        expect(int(row['ServiceType']) == SERVICE_WIN32_OWN_PROCESS, f'ServiceType {row["ServiceType"]}')
        expect(int(row['StartType']) == SERVICE_AUTO_START, f'StartType {row["StartType"]} is not automatic')
        expect(row['StartName'] == service.findtext('serviceaccount/username'), f'service account {row["StartName"]} differs from WinSW\'s')
        expect(row['Component_'] == 'Service', 'the service is not installed with the Service component')
    controls = read_table(work, 'ServiceControl')
    expect(len(controls) == 1, f'{len(controls)} ServiceControl rows, expected 1')
    for row in controls:
        expect(row['Name'] == service.findtext('id'), f'service control for {row["Name"]}')
        expect(int(row['Event']) == SERVICE_EVENTS, f'ServiceControl events {row["Event"]}, expected {SERVICE_EVENTS}')
        expect(row['Wait'] == '1', 'ServiceControl does not wait')

    files = read_table(work, 'File')
    names = [row['FileName'].split('|')[-1] for row in files]
    bundle = os.path.join(work, 'bundle')
    bundled = [name for _, _, found in os.walk(bundle) for name in found]
    expect(len(files) == len(bundled) + 3, f'{len(files)} files in the MSI, expected the {len(bundled)} of the bundle + 3')
    for name in ('node.exe', 'launcher.mjs', 'agent.mjs', 'VERSION', 'better_sqlite3.node',
                 'ninjait-agent-service.exe', 'ninjait-agent-service.xml', 'update-key.pub'):
        expect(name in names, f'{name} is not in the File table')
    sizes = {row['FileName'].split('|')[-1]: int(row['FileSize']) for row in files}
    expect(sizes.get('agent.mjs') == os.path.getsize(os.path.join(bundle, 'lib', 'agent.mjs')), 'agent.mjs has another size than in the bundle')

    directories = {row['Directory']: row for row in read_table(work, 'Directory')}
    install = directories.get('INSTALLFOLDER', {})
    expect(install.get('Directory_Parent') == 'ProgramFiles64Folder' and install.get('DefaultDir', '').split('|')[-1] == 'NinjaIT',
           'INSTALLFOLDER is not ProgramFiles64Folder\\NinjaIT')
    data = directories.get('DataFolder', {})
    expect(data.get('Directory_Parent') == 'CommonAppDataFolder' and data.get('DefaultDir', '').split('|')[-1] == 'NinjaIT',
           'DataFolder is not CommonAppDataFolder\\NinjaIT')
    expect(any(row['Directory_'] == 'DataFolder' for row in read_table(work, 'CreateFolder')), 'the data folder is not created')

    for problem in problems:
        print(f'check-msi: {problem}', file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f'check-msi: {len(files)} files, service {service.findtext("id")}, upgrade code {upgrade_code}, version {version}')


if __name__ == '__main__':
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
