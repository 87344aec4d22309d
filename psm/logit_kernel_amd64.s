#include "textflag.h"

// func lgRank4FMA(dst *float64, m int, a0, a1, a2, a3, u0, u1, u2, u3 *float64)
TEXT ·lgRank4FMA(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ m+8(FP), CX
	MOVQ a0+16(FP), R8
	MOVQ a1+24(FP), R9
	MOVQ a2+32(FP), R10
	MOVQ a3+40(FP), R11
	MOVQ u0+48(FP), R12
	MOVQ u1+56(FP), R13
	MOVQ u2+64(FP), SI
	MOVQ u3+72(FP), DX
	TESTQ CX, CX
	JLE done

rowloop:
	// CX = length of packed row j; DI = &g[j, j]; R8..R11 = &a_r[j];
	// R12, R13, SI, DX = &u_r[j].
	VBROADCASTSD (R8), Y0
	VBROADCASTSD (R9), Y1
	VBROADCASTSD (R10), Y2
	VBROADCASTSD (R11), Y3
	XORQ AX, AX
	MOVQ CX, BX
	SUBQ $4, BX // last k at which a full vector fits

vecloop:
	CMPQ AX, BX
	JGT tail
	VMOVUPD (DI)(AX*8), Y4
	VFMADD231PD (R12)(AX*8), Y0, Y4
	VFMADD231PD (R13)(AX*8), Y1, Y4
	VFMADD231PD (SI)(AX*8), Y2, Y4
	VFMADD231PD (DX)(AX*8), Y3, Y4
	VMOVUPD Y4, (DI)(AX*8)
	ADDQ $4, AX
	JMP vecloop

tail:
	CMPQ AX, CX
	JGE nextrow
	VMOVSD (DI)(AX*8), X4
	VFMADD231SD (R12)(AX*8), X0, X4
	VFMADD231SD (R13)(AX*8), X1, X4
	VFMADD231SD (SI)(AX*8), X2, X4
	VFMADD231SD (DX)(AX*8), X3, X4
	VMOVSD X4, (DI)(AX*8)
	INCQ AX
	JMP tail

nextrow:
	LEAQ (DI)(CX*8), DI
	ADDQ $8, R8
	ADDQ $8, R9
	ADDQ $8, R10
	ADDQ $8, R11
	ADDQ $8, R12
	ADDQ $8, R13
	ADDQ $8, SI
	ADDQ $8, DX
	DECQ CX
	JNZ rowloop

done:
	VZEROUPPER
	RET

// func lgCPUID(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·lgCPUID(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func lgXGETBV() (eax, edx uint32)
TEXT ·lgXGETBV(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET
