namespace KmsPlugin.Server.Hosting;

/// <summary>
/// Which file a path names: device and inode, plus the inode's change time, because an inode
/// number freed by an unlinked socket is soon given to the next socket created.
/// </summary>
internal readonly record struct UnixFileIdentity(ulong Device, ulong Inode, long ChangeSeconds, long ChangeNanoseconds);
