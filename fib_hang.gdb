0x00007f5a59ec0bd3 in __GI___wait4 (pid=-1, stat_loc=0x7ffef6cfb880, options=0, usage=0x0) at ../sysdeps/unix/sysv/linux/wait4.c:30
30	../sysdeps/unix/sysv/linux/wait4.c: No such file or directory.
Thread 1 (Thread 0x7f5a59dea740 (LWP 28860) "bash"):
#0  0x00007f5a59ec0bd3 in __GI___wait4 (pid=-1, stat_loc=0x7ffef6cfb880, options=0, usage=0x0) at ../sysdeps/unix/sysv/linux/wait4.c:30
#1  0x0000558d4636d3f2 in ?? ()
#2  0x0000558d4636eaba in wait_for ()
#3  0x0000558d4635a1ea in execute_command_internal ()
#4  0x0000558d4635aac5 in execute_command ()
#5  0x0000558d4635cbbb in ?? ()
#6  0x0000558d46357573 in execute_command_internal ()
#7  0x0000558d4635b24d in ?? ()
#8  0x0000558d46357153 in execute_command_internal ()
#9  0x0000558d46357573 in execute_command_internal ()
#10 0x0000558d4635c84b in ?? ()
#11 0x0000558d46357573 in execute_command_internal ()
#12 0x0000558d4635aac5 in execute_command ()
#13 0x0000558d4635ca47 in ?? ()
[Inferior 1 (process 28860) detached]
