#!/usr/bin/env python3
"""Writes the WiX 3 document Debian's wixl (msitools) builds, from ninjait-agent.wxs (WiX 5).

ninjait-agent.wxs stays the one source (real WiX builds it on Windows, see build.ps1); this
keeps what wixl supports and drops, saying so, what only the WiX toolset can build:
  - util:ServiceConfig (restart on failure) and util:PermissionEx (the data folder's ACL);
  - the enrollment custom action (WixQuietExec64 lives in WiX's own util binary).
Both are checked in the source by installers/lint.sh; everything else (product, upgrade code,
properties, folders, every bundle file, the service and its control) goes into the MSI, which
check-msi.sh then inspects with msiinfo.

  wixl-source.py SOURCE.wxs BUNDLE_DIR WINSW_EXE UPDATE_KEY OUT.wxs
"""
import hashlib
import os
import re
import sys
import xml.etree.ElementTree as ET

V5 = 'http://wixtoolset.org/schemas/v4/wxs'
UTIL = 'http://wixtoolset.org/schemas/v4/wxs/util'
V3 = 'http://schemas.microsoft.com/wix/2006/wi'
ET.register_namespace('', V3)


def v3(tag, **attrs):
    return ET.Element(f'{{{V3}}}{tag}', {k: v for k, v in attrs.items() if v is not None})


def local(element):
    return element.tag.split('}', 1)[1]


def ident(prefix, path):
    """A stable MSI identifier (72 characters at most, [A-Za-z0-9_.]) for a bundle path."""
    digest = hashlib.sha1(path.encode()).hexdigest()[:12]
    readable = re.sub(r'[^A-Za-z0-9_.]', '_', path)[-40:]
    return f'{prefix}_{readable}_{digest}'


def main(source, bundle_dir, winsw_exe, update_key, out):
    # wixl takes file sources relative to where it runs (the output's folder); absolute ones fail.
    base = os.path.dirname(os.path.abspath(out))
    relative = lambda path: os.path.relpath(os.path.abspath(path), base)  # noqa: E731
    wix = ET.parse(source).getroot()
    package = wix.find(f'{{{V5}}}Package')
    if package is None:
        raise SystemExit(f'{source}: no Package element')
    dropped = []
    sources = {'$(var.WinSWExe)': relative(winsw_exe), '$(var.UpdateKey)': relative(update_key)}

    product = v3('Product', Id='*', Name=package.get('Name'), Manufacturer=package.get('Manufacturer'),
                 Version=package.get('Version'), UpgradeCode=package.get('UpgradeCode'), Language='1033')
    product.append(v3('Package', InstallerVersion='500', Compressed=package.get('Compressed', 'yes'),
                      InstallScope='perMachine' if package.get('Scope') == 'perMachine' else 'perUser'))
    root = v3('Directory', Id='TARGETDIR', Name='SourceDir')
    directories = {}
    components = []

    def add_directories(parent, node):
        for child in node.findall(f'{{{V5}}}Directory'):
            element = v3('Directory', Id=child.get('Id'), Name=child.get('Name'))
            parent.append(element)
            directories[child.get('Id')] = element
            add_directories(element, child)

    for child in package:
        name = local(child)
        if child.tag.startswith(f'{{{UTIL}}}'):
            dropped.append(f'util:{name}')
        elif name in ('MajorUpgrade', 'MediaTemplate'):
            product.append(v3(name, **child.attrib))
        elif name == 'Property':
            product.append(v3('Property', Id=child.get('Id'), Value=child.get('Value')))
        elif name == 'StandardDirectory':
            standard = v3('Directory', Id=child.get('Id'))
            root.append(standard)
            directories[child.get('Id')] = standard
            add_directories(standard, child)
        elif name in ('SetProperty', 'CustomAction', 'InstallExecuteSequence'):
            dropped.append(f'{name} {child.get("Id", "")}'.strip())
        elif name != 'Feature':
            raise SystemExit(f'{source}: <{name}> is not handled by wixl-source.py')
    product.append(root)

    feature_source = package.find(f'{{{V5}}}Feature')
    feature = v3('Feature', Id=feature_source.get('Id'), Title=feature_source.get('Title'), Level=feature_source.get('Level'))
    for child in feature_source:
        name = local(child)
        if name == 'Files':
            if child.get('Include') != '$(var.BundleDir)\\**':
                raise SystemExit(f'{source}: Files Include="{child.get("Include")}" is not the bundle')
            components += bundle_components(bundle_dir, directories[child.get('Directory')], relative)
        elif name == 'Component':
            component = v3('Component', Id=child.get('Id'), Guid=child.get('Guid'), Win64='yes')
            for part in child:
                part_name = local(part)
                if part.tag.startswith(f'{{{UTIL}}}'):
                    dropped.append(f'util:{part_name}')
                    continue
                attrs = dict(part.attrib)
                if part_name == 'File':
                    attrs['Source'] = sources.get(attrs['Source']) or relative(os.path.join(os.path.dirname(source), attrs['Source']))
                element = v3(part_name, **attrs)
                for grandchild in part:
                    if grandchild.tag.startswith(f'{{{UTIL}}}'):
                        dropped.append(f'util:{local(grandchild)}')
                    else:
                        raise SystemExit(f'{source}: <{local(grandchild)}> inside <{part_name}> is not handled')
                component.append(element)
            directories[child.get('Directory')].append(component)
            components.append(child.get('Id'))
        else:
            raise SystemExit(f'{source}: <{name}> in the feature is not handled by wixl-source.py')
    for component in components:
        feature.append(v3('ComponentRef', Id=component))
    product.append(feature)

    document = v3('Wix')
    document.append(product)
    ET.indent(document)
    ET.ElementTree(document).write(out, encoding='utf-8', xml_declaration=True)
    for item in sorted(set(dropped)):
        print(f'wixl-source: left out (WiX toolset only): {item}')


def bundle_components(bundle_dir, install_dir, source_path):
    """One component per bundle file (its key path), in the bundle's folder tree under INSTALLFOLDER."""
    ids = []
    folders = {'': install_dir}
    for current, subdirs, files in os.walk(bundle_dir):
        subdirs.sort()
        relative = os.path.relpath(current, bundle_dir).replace(os.sep, '/')
        relative = '' if relative == '.' else relative
        parent = folders[relative]
        for sub in subdirs:
            path = f'{relative}/{sub}' if relative else sub
            folder = v3('Directory', Id=ident('d', path), Name=sub)
            parent.append(folder)
            folders[path] = folder
        for name in sorted(files):
            path = f'{relative}/{name}' if relative else name
            component = v3('Component', Id=ident('c', path), Guid='*', Win64='yes')
            component.append(v3('File', Id=ident('f', path), Name=name, Source=source_path(os.path.join(current, name)), KeyPath='yes'))
            parent.append(component)
            ids.append(ident('c', path))
    if not ids:
        raise SystemExit(f'{bundle_dir}: the bundle is empty')
    return ids


if __name__ == '__main__':
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
