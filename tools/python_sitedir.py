"""Prints the folder `make install` puts the Python package in for a PREFIX:
where this interpreter looks for packages under that prefix. Debian's python3
searches /usr/local/lib/python3.X/dist-packages (scheme posix_local) and
/usr/lib/python3/dist-packages (deb_system), not the upstream site-packages;
other prefixes get the upstream layout (PREFIX/lib/python3.X/site-packages,
which needs PYTHONPATH unless the interpreter lives there).
usage: python3 tools/python_sitedir.py PREFIX"""
import os
import sys
import sysconfig


def sitedir(prefix):
    prefix = os.path.normpath(prefix)
    schemes = sysconfig.get_scheme_names()
    if prefix == "/usr/local" and "posix_local" in schemes:
        return sysconfig.get_path("purelib", "posix_local")
    if prefix == "/usr" and "deb_system" in schemes:
        return sysconfig.get_path("purelib", "deb_system")
    return sysconfig.get_path("purelib", "posix_prefix", vars={"base": prefix, "platbase": prefix})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.splitlines()[-1])
    print(sitedir(sys.argv[1]))
