"""
A tiny WebKitGTK browser for WebKitWebDriver that keeps its storage on disk.

MiniBrowser in automation mode keeps everything in memory, so a restart loses the
service worker and its IndexedDB. This one puts them in the directory given as
--data-dir=DIR, so that a new launch on the same directory finds them again.

Run with /usr/bin/python3 (python3-gi, gir1.2-webkit2-4.1); the driver passes the
arguments of webkitgtk:browserOptions and says where to connect in WEBKIT_INSPECTOR_SERVER.
"""

import argparse

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('WebKit2', '4.1')
from gi.repository import Gtk, WebKit2  # noqa: E402

# What the session reports as browserName and browserVersion; the driver matches the
# requested browserName against the name. The version is WebKitGTK's own.
NAME = 'sw-outbox-webkit'
VERSION = (WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())


def main():
    parser = argparse.ArgumentParser(description='A WebKitGTK browser for WebKitWebDriver.')
    parser.add_argument('--data-dir', required=True, help='where the browser keeps its storage')
    directory = parser.parse_args().data_dir
    manager = WebKit2.WebsiteDataManager(base_data_directory=directory, base_cache_directory=f'{directory}/cache')
    context = WebKit2.WebContext(website_data_manager=manager)
    context.set_automation_allowed(True)

    def create_web_view(session):
        view = WebKit2.WebView(web_context=context, is_controlled_by_automation=True)
        window = Gtk.Window()
        window.set_default_size(1024, 768)
        window.add(view)
        window.show_all()
        # Closing a window (WebDriver's Close Window, or window.close()). The driver ends
        # this process when the session ends, so it need not quit by itself.
        view.connect('close', lambda _view: window.destroy())
        return view

    def automation_started(context, session):
        # Stands in for the program name, which the driver would use otherwise.
        info = WebKit2.ApplicationInfo()
        info.set_name(NAME)
        info.set_version(*VERSION)
        session.set_application_info(info)
        session.connect('create-web-view', create_web_view)

    context.connect('automation-started', automation_started)
    Gtk.main()


main()
