namespace KmsPlugin.LoadGen.Load;

/// <summary>
/// One worker's calls against one KMS API, with its requests built before the clock starts.
/// Each call returns false when the answer is wrong (not the plaintext sent, wrong key_id);
/// gRPC failures surface as RpcException.
/// </summary>
internal interface IKmsCalls
{
    /// <summary>Encrypts every slot's plaintext once, so Decrypt has real ciphertexts to send; unmeasured, so with its own deadline.</summary>
    Task PrepareAsync(TimeSpan timeout, CancellationToken cancellationToken);

    Task<bool> EncryptAsync(int slot, CancellationToken cancellationToken);

    Task<bool> DecryptAsync(int slot, CancellationToken cancellationToken);
}
