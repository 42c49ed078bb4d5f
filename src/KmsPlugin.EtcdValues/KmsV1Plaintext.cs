namespace KmsPlugin.EtcdValues;

internal sealed record KmsV1Plaintext(byte[] Plaintext, KmsV1PayloadCipher Cipher);
