// MoETUI: the ncurses screen, panes, themes, key and mouse input, replay transport.
