"""Monthly fees of tariffs, charged a day at a time so that a line pays from the day it starts to the day it stops."""
